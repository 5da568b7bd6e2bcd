; Inno Setup 6 script: a Windows installer over the PyInstaller folder dist\ferry.
; UNTESTED HERE (written on Linux); run build.ps1 on Windows, or by hand:
;   iscc /DAppVersion=0.1.0 packaging\windows\ferry.iss
; Installs per user or for all users (Setup asks), a Start-menu entry opening the wizard
; (ferry-gui.exe, no console window), optionally a desktop icon and `ferry` on PATH.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z ferry.iss (build.ps1 reads pyproject.toml)
#endif

[Setup]
AppId={{6B1C4E0A-5D2F-4E8B-9C3A-F3E2D1C0B9A8}
AppName=Ferry
AppVersion={#AppVersion}
AppVerName=Ferry {#AppVersion}
AppPublisher=Ferry
DefaultDirName={autopf}\Ferry
DefaultGroupName=Ferry
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
ChangesEnvironment=yes
OutputDir=..\..\dist
OutputBaseFilename=ferry-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\ferry-gui.exe

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; Flags: unchecked
Name: "addtopath"; Description: "Add the ferry command to PATH"

[Files]
Source: "..\..\dist\ferry\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Ferry"; Filename: "{app}\ferry-gui.exe"; Comment: "Ferry migration wizard"
Name: "{autodesktop}\Ferry"; Filename: "{app}\ferry-gui.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\ferry-gui.exe"; Description: "Open the Ferry wizard"; Flags: nowait postinstall skipifsilent

[Code]
// PATH: the user's own (per-user install) or the machine's (all users), added once and
// removed again on uninstall.
function EnvRoot(): Integer;
begin
  if IsAdminInstallMode() then Result := HKEY_LOCAL_MACHINE else Result := HKEY_CURRENT_USER;
end;

function EnvKey(): String;
begin
  if IsAdminInstallMode() then
    Result := 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment'
  else
    Result := 'Environment';
end;

procedure CurStepChanged(CurStep: TSetupStep);
var
  Path: String;
begin
  if (CurStep = ssPostInstall) and WizardIsTaskSelected('addtopath') then
  begin
    if not RegQueryStringValue(EnvRoot(), EnvKey(), 'Path', Path) then Path := '';
    if Pos(';' + Uppercase(ExpandConstant('{app}')) + ';', ';' + Uppercase(Path) + ';') = 0 then
    begin
      if (Path <> '') and (Copy(Path, Length(Path), 1) <> ';') then Path := Path + ';';
      RegWriteExpandStringValue(EnvRoot(), EnvKey(), 'Path', Path + ExpandConstant('{app}'));
    end;
  end;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  Path, Entry: String;
  P: Integer;
begin
  if CurUninstallStep <> usPostUninstall then exit;
  if not RegQueryStringValue(EnvRoot(), EnvKey(), 'Path', Path) then exit;
  Entry := ';' + ExpandConstant('{app}');
  P := Pos(Uppercase(Entry), Uppercase(';' + Path));
  if P > 0 then
  begin
    Path := ';' + Path;
    Delete(Path, P, Length(Entry));
    Path := Copy(Path, 2, Length(Path));
    RegWriteExpandStringValue(EnvRoot(), EnvKey(), 'Path', Path);
  end;
end;
