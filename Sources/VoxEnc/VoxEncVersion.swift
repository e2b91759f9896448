/// The version this build reports (`voxenc --version`, output metadata).
public enum VoxEncVersion {
    public static let string = "0.1.0"
}
